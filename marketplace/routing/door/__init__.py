"""The visitor's side: the widget, arriving and waiting in the queue, leaving and rating."""
