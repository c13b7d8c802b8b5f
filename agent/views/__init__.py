"""Views: terminal tables and the HTML report with its charts."""
