"""WSGI entry point for production servers, e.g. `gunicorn -k gevent -w 1 wsgi:app`.

Web processes never run the scheduler: run `marketplace scheduler` beside them.
"""

from marketplace import create_app, settle_heap

app = create_app()
settle_heap()
