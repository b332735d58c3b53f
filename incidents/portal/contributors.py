"""Sections nested apps add to the customer portal's home page (e.g. the organisation's
maintenance windows), without this app importing them: section(request) -> HTML or "",
registered in the app's AppConfig.ready. A section shows only what the signed-in customer
contact may see (its own selector's job)."""

portal_home_sections: list = []


def portal_sections_render(request) -> list[str]:
    return [html for section in portal_home_sections if (html := section(request))]
