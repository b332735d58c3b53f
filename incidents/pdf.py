"""HTML to PDF with WeasyPrint, for documents people download or forward (notice kit, SLA report).

WeasyPrint is imported on first use: it is a heavy import that most processes never need.
"""


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """The PDF of an HTML document. `base_url` resolves relative links (stylesheets, images);
    without it, only absolute and data: URLs can be loaded."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()
