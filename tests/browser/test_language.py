"""Switching the workspace to Spanish in the footer: the toolbar, the keyboard help and the script's messages follow."""

from playwright.sync_api import expect


def test_the_editor_switches_the_workspace_to_spanish_in_the_footer(new_page, editor, make_article):
    article = make_article("Lula visitó Seúl.")
    page = new_page(editor, f"/articles/{article.pk}/")
    toolbar = page.get_by_role("toolbar")
    expect(toolbar.locator("[data-action=mark-reviewed]")).to_have_text("rMark reviewed")

    page.locator("footer").get_by_role("button", name="Español").click()

    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert page.url.endswith(f"/articles/{article.pk}/")  # back on the same article
    expect(page.get_by_role("toolbar", name="Etiquetas y acciones")).to_be_visible()
    expect(toolbar.locator("[data-action=mark-reviewed]")).to_have_text("rMarcar como revisado")
    expect(toolbar.locator("[data-action=undo]")).to_have_text("uDeshacer")
    expect(toolbar.locator("[data-action=label-everywhere]")).to_have_text("eEtiquetar todas las apariciones")
    expect(toolbar.locator("[data-action=delete-span]")).to_have_text("SuprEliminar")
    expect(toolbar.locator("[data-action=next-article]")).to_have_text("nSiguiente artículo")
    expect(toolbar.locator("label.sticky")).to_have_text("Etiqueta fija s")
    expect(page.locator("footer").get_by_role("button", name="Español")).to_be_disabled()

    # What the script says comes from the page, in the page's language.
    page.keyboard.press("1")
    expect(page.locator("#workspace-alert")).to_have_text(
        "Seleccione primero un texto del artículo, o pulse t para el cursor de texto, y luego elija una etiqueta."
    )

    page.keyboard.press("?")
    help = page.get_by_role("dialog", name="Teclado")
    expect(help).to_be_visible()
    expect(help.locator("dd").first).to_have_text("Entidad anterior o siguiente")
    expect(help).to_contain_text("Mover el inicio de la entidad una palabra")
    expect(help).to_contain_text("Etiqueta fija: cada selección recibe la última etiqueta elegida")
    expect(help).to_contain_text("Quitar la selección o el cursor de texto, cerrar esta ayuda")
    expect(help.locator("kbd", has_text="Mayús")).to_be_visible()
    expect(help).not_to_contain_text("Move the entity")
    help.get_by_role("button", name="Cerrar").click()
    expect(help).to_be_hidden()
