"""The leadership report: its data model, the Jinja2 environment and the HTML/PDF rendering."""
