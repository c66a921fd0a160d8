"""The API's routes, one module per resource; each route is thin: parse, one service call, a view."""
