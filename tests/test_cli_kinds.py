"""``glassnet train/gradcheck --activation --output --loss`` in-process."""

import json

import pytest

import glassnet
from glassnet.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_with_tanh_and_softmax_saves_them(tmp_path, capsys):
    model = tmp_path / "m.npz"
    code, out, err = run(capsys, "train", "--data", "iris", "--hidden", "5", "--epochs", "30", "--activation", "tanh",
                         "--output", "softmax", "--save", model)
    assert (code, err) == (0, "")
    assert "units and cost: tanh hidden, softmax output, log cost" in out.splitlines()
    clf = glassnet.load(model)
    assert (clf.activation, clf.output, clf.loss) == ("tanh", "softmax", "log")
    J0 = float(next(line for line in out.splitlines() if line.startswith("J(Θ) before")).split()[-1])
    assert J0 == pytest.approx(clf.history_.initial_cost, abs=5e-7)  # J before is the tanh/softmax cost
    accuracy_line = next(line for line in out.splitlines() if line.startswith("train accuracy"))
    train_accuracy = float(accuracy_line.split()[-1][:-1])
    assert train_accuracy > 90


def test_train_refuses_an_unsupported_pair(capsys):
    code, out, err = run(capsys, "train", "--data", "iris", "--epochs", "2", "--output", "softmax", "--loss", "squared")
    assert code != 0 and "sigmoid+log, softmax+log, sigmoid+squared, identity+squared" in err


@pytest.mark.parametrize("args", [["--activation", "relu"], ["--output", "softmax"], ["--loss", "squared"],
                                  ["--activation", "tanh", "--output", "identity", "--loss", "squared"]])
def test_gradcheck_passes_for_every_pair(capsys, args):
    code, out, err = run(capsys, "gradcheck", "--lam", "3", *args, "--json")
    payload = json.loads(out)
    assert code == 0 and payload["passed"] and payload["relative_difference"] < 1e-9
    kinds = dict(zip(args[::2], args[1::2]))
    assert payload["activation"] == kinds.get("--activation", "sigmoid")
    assert payload["output"] == kinds.get("--output", "sigmoid")
    assert payload["loss"] == kinds.get("--loss", "log")
