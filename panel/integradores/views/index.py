"""The Integradores menu: its two areas and Operações."""

from flask import render_template

from panel.integradores import bp
from panel.models import Role
from panel.security import requires


@bp.route("/")
@requires(Role.leitura)
def index():
    return render_template("integradores/index.html")
