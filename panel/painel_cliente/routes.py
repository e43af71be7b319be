from flask import render_template

from panel.models import Role
from panel.painel_cliente import bp
from panel.security import requires


@bp.route("/")
@requires(Role.leitura)
def index():
    return render_template("painel_cliente/index.html")
