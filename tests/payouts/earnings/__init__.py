"""Tests of earnings, their fraud checks, disputes and reviews."""
