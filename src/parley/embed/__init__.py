"""The embeddable comment widget: its sources (``assets/``), how they become one script
(``bundle``), how it is served (``views``: ``/embed.js``) and the CORS rules that let publisher
pages on other origins call the API (``cors``)."""
