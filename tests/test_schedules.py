"""Learning-rate schedules worked by hand, PyTorch as an oracle, and the two callbacks that set
the rate between epochs."""

from types import SimpleNamespace

import numpy as np
import pytest

import glassnet as gn
from glassnet.training.schedules import schedule_from_config, schedule_to_config


def rates(schedule, steps):
    return [schedule(t) for t in steps]


# -- each schedule, by hand -----------------------------------------------------------------------
def test_step_decay_divides_every_step_size_steps():
    s = gn.StepDecay(0.1, step_size=3, gamma=0.5)
    # 0.1 * 0.5 ** (t // 3): t = 0, 1, 2 -> 0.1; 3, 4, 5 -> 0.05; 6 -> 0.025
    assert rates(s, range(7)) == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]


def test_exponential_decay_smooth_and_staircase():
    smooth = gn.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    # 0.1 * 0.5 ** (5 / 10) = 0.1 / sqrt(2) = 0.0707106781...; at 10: 0.05; at 20: 0.025
    assert smooth(5) == pytest.approx(0.07071067811865475, abs=1e-16)
    assert smooth(10) == 0.05 and smooth(20) == 0.025
    stairs = gn.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    # 0.1 * 0.5 ** floor(t / 10): 5 -> 0.1, 10 -> 0.05, 19 -> 0.05, 20 -> 0.025
    assert rates(stairs, [5, 9, 10, 19, 20]) == [0.1, 0.1, 0.05, 0.05, 0.025]


def test_cosine_decay_from_the_rate_to_alpha_times_it_then_constant():
    s = gn.CosineDecay(1.0, decay_steps=10, alpha=0.1)
    # c = (1 + cos(pi t / 10)) / 2; eta = 1.0 * (0.9 c + 0.1)
    assert s(0) == 1.0  # c = 1
    assert s(5) == pytest.approx(0.55, abs=1e-15)  # c = 0.5: 0.45 + 0.1
    # t = 2: c = (1 + cos(0.2 pi)) / 2 = (1 + 0.809016994) / 2 = 0.904508497; 0.9c + 0.1
    assert s(2) == pytest.approx(0.9 * 0.9045084971874737 + 0.1, abs=1e-15)
    assert s(10) == pytest.approx(0.1, abs=1e-15) and s(10) == s(25)  # c = 0, and held


def test_cosine_decay_with_linear_warmup_from_zero():
    s = gn.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    # warm-up: 0 + (1.0 - 0) * t / 4 for t < 4: 0, 0.25, 0.5, 0.75
    assert rates(s, range(4)) == [0.0, 0.25, 0.5, 0.75]
    # then cosine from 1.0 over 10 steps at t - 4: t = 4 -> 1.0, t = 9 -> 0.5, t = 14 -> 0
    assert s(4) == 1.0
    assert s(9) == pytest.approx(0.5, abs=1e-15)
    assert s(14) == pytest.approx(0.0, abs=1e-16) and s(100) == s(14)


def test_one_cycle_rises_to_max_lr_then_falls_to_the_final_rate():
    s = gn.OneCycle(max_lr=1.0, total_steps=10, pct_start=0.5, div_factor=10, final_div_factor=100)
    # first rate 1.0 / 10 = 0.1, last 0.1 / 100 = 0.001; the rise ends at 0.5 * 10 - 1 = 4
    assert s(0) == pytest.approx(0.1, abs=1e-16) and s(4) == 1.0
    # t = 2, half the rise: 1.0 + (0.1 - 1.0) / 2 * (cos(pi / 2) + 1) = 1.0 - 0.45 = 0.55
    assert s(2) == pytest.approx(0.55, abs=1e-15)
    # the fall from t = 4 to 9; t = 9 is its end: 0.001, and it stays there after
    assert s(9) == pytest.approx(0.001, abs=1e-18) and s(50) == s(9)


def test_piecewise_constant_decay_takes_each_value_up_to_its_boundary():
    s = gn.PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.1])
    # t <= 3 -> 1.0; 3 < t <= 6 -> 0.5; t > 6 -> 0.1
    assert rates(s, range(9)) == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1, 0.1]


@pytest.mark.parametrize(
    "schedule",
    [
        gn.StepDecay(0.1, 3),
        gn.ExponentialDecay(0.1, 10, 0.9, staircase=True),
        gn.CosineDecay(0.0, 10, alpha=0.05, warmup_target=0.1, warmup_steps=3),
        gn.OneCycle(0.1, 100),
        gn.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
    ],
    ids=repr,
)
def test_a_schedule_rebuilds_from_its_config_and_gives_python_floats(schedule):
    again = schedule_from_config(schedule_to_config(schedule))
    assert again == schedule and again is not schedule
    assert all(type(schedule(t)) is float for t in range(30))
    assert rates(again, range(30)) == rates(schedule, range(30))


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: gn.StepDecay(0.1, 0), ValueError, r"^step_size must be >= 1, got 0$"),
        (lambda: gn.StepDecay(-1, 3), ValueError, r"^initial_learning_rate must be > 0.0"),
        (lambda: gn.ExponentialDecay(0.1, 0, 0.5), ValueError, r"^decay_steps must be >= 1, got 0"),
        (lambda: gn.ExponentialDecay(0.1, 2.5, 0.5), TypeError, r"^decay_steps must be an integer"),
        (lambda: gn.ExponentialDecay(0.1, 5, 0), ValueError, r"^decay_rate must be > 0.0, got 0"),
        (lambda: gn.ExponentialDecay(0.1, 5, 0.5, staircase=1), TypeError, r"^staircase must be"),
        (lambda: gn.CosineDecay(0.1, 0), ValueError, r"^decay_steps must be >= 1, got 0$"),
        (lambda: gn.CosineDecay(0.0, 10), ValueError, r"^initial_learning_rate must be > 0.0"),
        (lambda: gn.CosineDecay(0.1, 10, alpha=1.5), ValueError, r"^alpha must be <= 1.0, got 1.5"),
        (
            lambda: gn.CosineDecay(0.1, 10, warmup_steps=5),
            ValueError,
            r"^warmup_target and warmup_steps go together: got warmup_target=None and "
            r"warmup_steps=5$",
        ),
        (lambda: gn.OneCycle(0.1, 1), ValueError, r"^total_steps must be >= 2, got 1$"),
        (lambda: gn.OneCycle(0.1, 10, pct_start=1.0), ValueError, r"^pct_start must be < 1.0"),
        (
            lambda: gn.OneCycle(0.1, 10, pct_start=0.1),
            ValueError,
            r"^pct_start \* total_steps must not be 1 \(a rise of no steps\), got 0.1 \* 10$",
        ),
        (
            lambda: gn.PiecewiseConstantDecay([5, 5], [1.0, 0.5, 0.1]),
            ValueError,
            r"^boundaries must increase strictly, got \[5, 5\]$",
        ),
        (
            lambda: gn.PiecewiseConstantDecay([5], [1.0]),
            ValueError,
            r"^values must hold one rate more than boundaries \(1\), got 1$",
        ),
        (lambda: gn.StepDecay(0.1, 3)(-1), ValueError, r"^step must be >= 0, got -1$"),
        (lambda: gn.StepDecay(0.1, 3)(1.5), TypeError, r"^step must be an integer, got 1.5$"),
        (
            lambda: schedule_from_config({"class": "Cyclic", "config": {}}),
            ValueError,
            r"^unknown learning-rate schedule 'Cyclic'; valid names are: CosineDecay, ",
        ),
    ],
)
def test_bad_schedule_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()


# -- a schedule drives the optimizer --------------------------------------------------------------
def test_sgd_takes_each_step_with_that_steps_rate():
    p, g = np.array([1.0]), np.array([1.0])
    opt = gn.SGD(learning_rate=gn.StepDecay(0.1, step_size=1, gamma=0.5))
    assert opt.current_learning_rate == 0.1  # step 0's
    opt.step([("w", p, g)])  # p = 1 - 0.1 * 1 = 0.9
    opt.step([("w", p, g)])  # p = 0.9 - 0.05 * 1 = 0.85
    assert p[0] == pytest.approx(0.85, abs=1e-15)
    assert opt.current_learning_rate == 0.025 and type(opt.current_learning_rate) is float


def test_history_records_the_rate_of_each_epochs_first_step(rng):
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    model = gn.Sequential([gn.Dense(1)])
    # 20 rows, batches of 10: 2 steps an epoch; the rate halves every 2 steps
    opt = gn.SGD(gn.StepDecay(0.1, step_size=2, gamma=0.5))
    history = model.fit(X, y, loss="mse", optimizer=opt, epochs=3, batch_size=10, rng=0)
    assert history.learning_rate == [0.1, 0.05, 0.025]
    plain = gn.Sequential([gn.Dense(1)]).fit(X, y, loss="mse", optimizer=gn.Adam(0.01), rng=0)
    assert plain.learning_rate == [0.01]


# -- PyTorch as the oracle ------------------------------------------------------------------------
def torch_rates(make_scheduler, lr, steps):
    """The rate a PyTorch scheduler gives each of ``steps`` optimizer steps (float64)."""
    torch = pytest.importorskip("torch")
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    scheduler = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return out


def test_step_decay_is_torch_step_lr():
    torch = pytest.importorskip("torch")
    expected = torch_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, 4, gamma=0.3), 0.2, 20)
    np.testing.assert_allclose(rates(gn.StepDecay(0.2, 4, gamma=0.3), range(20)), expected, 1e-15)


def test_one_cycle_is_torch_one_cycle_lr():
    torch = pytest.importorskip("torch")

    def one_cycle(o):
        return torch.optim.lr_scheduler.OneCycleLR(
            o, max_lr=0.5, total_steps=37, pct_start=0.3, cycle_momentum=False
        )

    expected = torch_rates(one_cycle, 0.5, 37)
    got = rates(gn.OneCycle(0.5, 37, pct_start=0.3), range(37))
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)


def test_cosine_decay_is_torch_cosine_annealing_within_its_period():
    torch = pytest.importorskip("torch")

    def cosine(o):
        return torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=25, eta_min=0.002)

    expected = torch_rates(cosine, 0.1, 26)  # t = 0 .. 25 = T_max
    got = rates(gn.CosineDecay(0.1, 25, alpha=0.002 / 0.1), range(26))
    # torch computes the same cosine recursively, step by step: equal up to rounding
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


# -- the callbacks --------------------------------------------------------------------------------
def test_learning_rate_scheduler_sets_the_rate_before_each_epoch(rng):
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    model = gn.Sequential([gn.Dense(1)])
    halve_after_first = gn.LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
    history = model.fit(
        X, y, loss="mse", optimizer=gn.SGD(0.1), epochs=3, callbacks=[halve_after_first], rng=0
    )
    # epoch 0: 0.1; epoch 1: 0.1 / 2; epoch 2: 0.05 / 2
    assert history.learning_rate == [0.1, 0.05, 0.025]
    assert model.optimizer_.learning_rate == 0.025


def test_learning_rate_scheduler_refuses_a_bad_rate_and_a_scheduled_optimizer(rng):
    X, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    negative = gn.LearningRateScheduler(lambda epoch, lr: -lr)
    with pytest.raises(
        ValueError, match=r"^LearningRateScheduler: schedule\(0, 0.1\) gave learning_rate must"
    ):
        gn.Sequential([gn.Dense(1)]).fit(
            X, y, loss="mse", optimizer=gn.SGD(0.1), callbacks=[negative]
        )
    with pytest.raises(
        ValueError,
        match=r"^LearningRateScheduler sets the learning rate between epochs, but the "
        r"optimizer's learning_rate is StepDecay\(.*\): use one or the other$",
    ):
        gn.Sequential([gn.Dense(1)]).fit(
            X,
            y,
            loss="mse",
            optimizer=gn.SGD(gn.StepDecay(0.1, 5)),
            callbacks=[gn.LearningRateScheduler(lambda e, lr: lr)],
        )
    with pytest.raises(TypeError, match=r"^schedule must be a function \(epoch, lr\) -> lr"):
        gn.LearningRateScheduler(0.1)


def plateau_rates(callback, losses, lr=1.0):
    """The rate after each epoch's end, ``callback`` fed the epoch losses ``losses``."""
    callback.model = SimpleNamespace(optimizer_=gn.SGD(lr))
    callback.on_train_begin()
    out = []
    for epoch, value in enumerate(losses):
        callback.on_epoch_end(epoch, {"loss": value})
        out.append(callback.model.optimizer_.learning_rate)
    return out


def test_reduce_on_plateau_waits_patience_epochs_then_cools_down():
    cb = gn.ReduceLROnPlateau("loss", factor=0.5, patience=1, cooldown=2, min_delta=0.0)
    # e0: best 1.0.  e1: no better, wait 1 >= 1 -> 0.5, cooldown 2.
    # e2: cooldown 2 -> 1 (wait 0), still cooling: nothing.
    # e3: cooldown 1 -> 0, no better, wait 1 -> 0.25.  e4: cooling.  e5: -> 0.125.
    # (Keras's counting: the epoch of the reduction is the first of the cooldown.)
    assert plateau_rates(cb, [1.0] * 6) == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_reduce_on_plateau_counts_min_delta_and_stops_at_min_lr():
    cb = gn.ReduceLROnPlateau("loss", factor=0.1, patience=0, min_delta=0.05, min_lr=0.05)
    # e0: 1.0 improves on inf. e1: 0.97 is not below 1.0 - 0.05: -> max(0.1, 0.05) = 0.1
    # e2: 0.9 < 0.95: improves, wait 0.  e3: 0.9 -> max(0.01, 0.05) = 0.05.  e4: at min_lr.
    got = plateau_rates(cb, [1.0, 0.97, 0.9, 0.9, 0.9])
    assert got == pytest.approx([1.0, 0.1, 0.1, 0.05, 0.05], abs=1e-17)
    acc = gn.ReduceLROnPlateau("val_accuracy", factor=0.5, patience=1, min_delta=0.0)
    acc.model = SimpleNamespace(optimizer_=gn.SGD(1.0))
    acc.on_train_begin()
    for epoch, value in enumerate([0.5, 0.6, 0.6]):  # higher is better: e2 reduces
        acc.on_epoch_end(epoch, {"loss": 1.0, "val_loss": 1.0, "val_accuracy": value})
    assert acc.model.optimizer_.learning_rate == 0.5


def test_reduce_on_plateau_in_fit_records_each_epochs_rate(rng):
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)
    model = gn.Sequential([gn.Dense(1)])
    cb = gn.ReduceLROnPlateau(factor=0.5, patience=0, min_delta=10.0)  # never improves
    history = model.fit(X, y, loss="mse", optimizer=gn.SGD(0.1), epochs=4, callbacks=[cb], rng=0)
    # no validation data: val_loss falls back to loss; e0 improves on inf, then each halves
    assert history.learning_rate == pytest.approx([0.1, 0.1, 0.05, 0.025], abs=1e-17)


def test_reduce_on_plateau_names_its_arguments_and_a_typo_in_monitor(rng):
    with pytest.raises(ValueError, match=r"^factor must be < 1.0, got 1.0$"):
        gn.ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match=r"^cooldown must be >= 0, got -1$"):
        gn.ReduceLROnPlateau(cooldown=-1)
    with pytest.raises(ValueError, match=r"^mode must be 'auto', 'min' or 'max', got 'up'$"):
        gn.ReduceLROnPlateau(mode="up")
    X, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau\(monitor='val_los'\): fit logs no"):
        gn.Sequential([gn.Dense(1)]).fit(
            X, y, loss="mse", callbacks=[gn.ReduceLROnPlateau("val_los")]
        )


def test_the_verbose_callbacks_say_what_they_set(capsys):
    cb = gn.ReduceLROnPlateau("loss", factor=0.5, patience=0, verbose=1)
    plateau_rates(cb, [1.0, 1.0])
    assert capsys.readouterr().out == "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.5.\n"
