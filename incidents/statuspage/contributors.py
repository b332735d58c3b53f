"""Contributors to the public status page: nested apps (e.g. scheduled maintenance) that add a
section to the page and documents to its JSON, without this app importing them.

A contributor is an object registered in its app's AppConfig.ready with two methods, both called
during a render (so they see the database then, never on a read):
- documents(page) -> {file name below the status directory: JSON document}: a document of an
  existing file is merged into it key by key (e.g. summary.json's "scheduled_maintenances"), a
  new file name is a new artefact (it needs a URL in views.ARTEFACTS to be served);
- section(page) -> HTML for the index page (called once per language, with that language and
  the page's time zone active), or "" for nothing.
"""

status_page_contributors: list = []


def contributed_documents(page, page_json: dict) -> dict[str, dict]:
    documents: dict[str, dict] = {}
    for contributor in status_page_contributors:
        for name, doc in contributor.documents(page, page_json).items():
            documents.setdefault(name, {}).update(doc)
    return documents


def contributed_sections(page) -> list[str]:
    return [html for c in status_page_contributors if (html := c.section(page))]
