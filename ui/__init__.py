"""The web app's pages (Gradio). `app.py` assembles them; each module builds one page."""
