"""The Configurações menu page."""

from flask import render_template

from panel.configuracoes import bp
from panel.models import Role
from panel.security import requires


@bp.route("/")
@requires(Role.leitura)
def index():
    return render_template("configuracoes/index.html")
