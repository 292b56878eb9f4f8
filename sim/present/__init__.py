"""Presentation: charts, plain-language text, terminal tables and HTML pages.

:mod:`.text` holds the one vocabulary (the origins' words); :mod:`.charts` the
plotly figures, one module per kind of chart; :mod:`.terminal` the rich tables;
:mod:`.pages` the jinja2 environment of the templates under ``templates/``
(one stylesheet, ``truce.css``); :mod:`.report`, :mod:`.story` and
:mod:`.hindcast_page` the three pages.
"""
