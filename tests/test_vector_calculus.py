"""div, curl and the Laplacian: identities, textbook fields, and curvilinear against Cartesian."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaccli import vector_calculus as vc

F = "x**2*y*sin(z) + exp(x*z) - y**3*z"  # a smooth scalar function of x, y, z


def _field_of(jaccli, *args) -> str:
    """A command's symbolic output (one entry per line in plain format) as a field "[a, b, c]"."""
    run = jaccli(*args, "-f", "json")
    assert run.code == 0, run.stderr
    return "[" + ", ".join(run.json["symbolic"]) + "]"


def test_curl_of_a_gradient_is_zero(jaccli):
    field = _field_of(jaccli, "gradient", F, "--vars", "x,y,z")
    symbolic = jaccli("curl", field, "--vars", "x,y,z", "-f", "json")
    assert symbolic.json["symbolic"] == ["0", "0", "0"]
    numeric = jaccli("curl", field, "--vars", "x,y,z", "--at", "0.3,-1.2,0.7", "-f", "json")
    assert numeric.json["value"] == pytest.approx([0, 0, 0], abs=1e-12)


def test_div_of_a_curl_is_zero(jaccli):
    field = _field_of(jaccli, "curl", "[x*y*z, sin(x)*y**2, exp(y)*cos(z)]", "--vars", "x,y,z")
    assert jaccli("div", field, "--vars", "x,y,z", "-f", "json").json["symbolic"] == "0"
    numeric = jaccli("div", field, "--vars", "x,y,z", "--at", "1.5,0.2,-0.4", "-f", "json")
    assert numeric.json["value"] == pytest.approx(0, abs=1e-12)


def test_laplacian_of_one_over_r_is_zero_away_from_the_origin(jaccli):
    run = jaccli("laplacian", "1/sqrt(x**2 + y**2 + z**2)", "--at", "1,2,3", "-f", "json")
    assert run.code == 0 and run.json["symbolic"] == "0"
    assert run.json["value"] == pytest.approx(0, abs=1e-15)
    spherical = jaccli("laplacian", "1/r", "--coords", "spherical", "--vars", "r,theta,phi", "-f", "json")
    assert spherical.json["symbolic"] == "0"


def test_div_is_the_trace_of_the_jacobian(jaccli):
    run = jaccli("div", "[x*y, y*z, z*x]", "--at", "1,2,3", "-f", "json")
    assert run.json["symbolic"] == "x + y + z" and run.json["value"] == 6


def test_rigid_rotation_has_curl_twice_its_angular_velocity(jaccli):
    assert jaccli("curl", "[-y, x, 0]", "-f", "json").json["symbolic"] == ["0", "0", "2"]
    assert jaccli("curl", "[-y, x]", "--at", "1,2", "-f", "json").json["value"] == 2  # the scalar curl in 2-D
    # the same rotation in spherical coordinates: F = r sin θ e_φ; curl = 2 e_z = 2 cos θ e_r − 2 sin θ e_θ
    run = jaccli("curl", "[0, 0, r*sin(theta)]", "--coords", "spherical", "--vars", "r,theta,phi",
                 "--at", "2,0.3,1", "-f", "json")
    assert run.json["symbolic"] == ["2*cos(theta)", "-2*sin(theta)", "0"]
    assert run.json["value"] == pytest.approx([2 * math.cos(0.3), -2 * math.sin(0.3), 0], rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("command, expression, coords, names, expected", [
    ("div", "[r, 0]", "polar", "r,t", "2"),  # F = (x, y)
    ("div", "[r, 0, z]", "cylindrical", "r,t,z", "3"),  # F = (x, y, z)
    ("div", "[r, 0, 0]", "spherical", "r,theta,phi", "3"),  # F = (x, y, z)
    ("laplacian", "r**2", "polar", "r,t", "4"),
    ("laplacian", "r**2", "cylindrical", "r,t,z", "4"),
    ("laplacian", "r**2", "spherical", "r,theta,phi", "6"),
    ("laplacian", "log(r)", "polar", "r,t", "0"),  # the 2-D fundamental solution
    ("curl", "[0, r]", "polar", "r,t", "2"),  # rigid rotation, F_θ = r
])
def test_curvilinear_textbook_results(jaccli, command, expression, coords, names, expected):
    run = jaccli(command, expression, "--coords", coords, "--vars", names, "-f", "json")
    assert run.code == 0, run.stderr
    assert run.json["symbolic"] == expected
    point = {"polar": "1.3,0.4", "cylindrical": "1.3,0.4,-2", "spherical": "1.3,0.4,2"}[coords]
    at = jaccli(command, expression, "--coords", coords, "--vars", names, "--at", point, "-f", "json")
    assert at.json["value"] == pytest.approx(float(expected), abs=1e-14)


@given(st.floats(0.2, 3), st.floats(-3, 3))
def test_polar_laplacian_agrees_with_cartesian(r, t):
    # f = r³ cos θ = (x² + y²) x, whose Cartesian Laplacian is 8x = 8 r cos θ
    result = vc.field_operator("laplacian", "r**3*cos(t)", [f"{r!r},{t!r}"], ["r", "t"], coords="polar")
    assert float(result.value) == pytest.approx(8 * r * math.cos(t), rel=1e-12, abs=1e-12)
    x, y = r * math.cos(t), r * math.sin(t)
    cartesian = vc.field_operator("laplacian", "(x**2 + y**2)*x", [f"{x!r},{y!r}"])
    assert float(cartesian.value) == pytest.approx(float(result.value), rel=1e-12, abs=1e-12)


@given(st.floats(0.2, 3), st.floats(0.1, 3.0), st.floats(-3, 3))
def test_spherical_div_agrees_with_cartesian(r, theta, phi):
    # F = r² e_r = |x| (x, y, z): div = 4 r in any coordinates
    numbers = vc.FieldNumbers(vc._problem("[r**2, 0, 0]", None, ["r", "theta", "phi"], "spherical", None, False,
                                          "div", None), "div", "spherical", ())
    value, _ = numbers.at(np.array([[r, theta, phi]]))
    assert value[0] == pytest.approx(4 * r, rel=1e-12)


def test_many_points(jaccli):
    run = jaccli("laplacian", "x**3 + y**2", "--points", "-", "-f", "csv", input="1 0\n2 5\n")
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == ["x,y,laplacian f", "1,0,8", "2,5,14"]


def test_exact_values(jaccli):
    run = jaccli("div", "[sin(x), cos(y)]", "--at", "pi/3,pi/6", "--exact", "-f", "json")
    assert run.json["exact"] == "0"  # cos(π/3) − sin(π/6)


@pytest.mark.parametrize("args, message", [
    (["div", "[x, y, z]", "--vars", "x,y"], "leaves out z"),
    (["div", "[x*y, y]", "--vars", "x,y,z"], "one component per variable"),
    (["curl", "[a, b, c, d]"], "2-D (a scalar) and 3-D"),
    (["laplacian", "[x, y]"], "scalar function"),
    (["div", "[r, 0]", "--coords", "polar"], "--vars"),
    (["laplacian", "r", "--coords", "spherical", "--vars", "r,t"], "3 coordinates"),
    (["div", "[x, y]", "--coords", "toroidal"], "toroidal"),
])
def test_bad_fields_are_one_error_line(jaccli, args, message):
    run = jaccli(*args)
    assert run.code == 2
    assert run.stderr.startswith("Error: ") and message in run.stderr, run.stderr
