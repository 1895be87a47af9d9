"""The update rules of the notes: SGD (momentum, Nesterov), Adagrad, RMSprop, Adam, AdamW.

Each rule works on the raw arrays of a parameter (``x``) and its gradient (``g``), in place, and
follows PyTorch 2's arithmetic step for step, so a minigrad model and a torch model with the same
weights and gradients follow the same trajectory. Each docstring maps PyTorch's form to the notes'.
"""
from ..tensor import Tensor
from .optimizer import Optimizer, in_pieces


def _lerp_(a, b, w):
    """a <- a + w (b - a), in place, rounded as PyTorch's ``lerp_`` rounds (exact at w = 0 and 1)."""
    if w < 0.5:
        a += w * (b - a)
    else:
        a[...] = b - (b - a) * (1 - w)


def _decay_grad(x, g, group):
    """The gradient with sign flipped for ``maximize`` and L2 weight decay added (``g + wd * x``)."""
    if group["maximize"]:
        g = -g
    if group["weight_decay"] != 0:
        g = g + group["weight_decay"] * x
    return g


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as in PyTorch.

    Vanilla: ``x -= lr * dx`` (the notes' update). With momentum ``mu`` PyTorch keeps a velocity
    without the learning rate in it::

        b = mu * b + (1 - dampening) * g        (b = g on the first step)
        x -= lr * b                             (Nesterov: x -= lr * (g + mu * b))

    The notes write ``v = mu * v - lr * dx; x += v``. With a constant ``lr`` and no dampening the two are
    the same trajectory, ``v = -lr * b`` at every step; so is the notes' Nesterov form
    ``x += -mu * v_prev + (1 + mu) * v``. They differ only when ``lr`` changes: PyTorch's velocity is
    rescaled by the new rate at once. ``weight_decay`` adds ``wd * x`` to the gradient (L2).
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group, where):
        super()._check_hyperparameters(group, where)
        if group["momentum"] < 0.0:
            raise ValueError(f"SGD{where}: invalid momentum={group['momentum']} (must be >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD{where}: Nesterov momentum requires a momentum > 0 and zero dampening "
                             f"(got momentum={group['momentum']}, dampening={group['dampening']})")

    def _update(self, p, g, group):
        lr, mu, dampening, nesterov = float(group["lr"]), group["momentum"], group["dampening"], group["nesterov"]
        if mu == 0:
            def step(x, g):
                x -= lr * _decay_grad(x, g, group)
            return in_pieces(step, p.data, g)
        state = self.state[p]
        first = state.get("momentum_buffer") is None
        if first:                                            # b = g: the gradient's dtype, as PyTorch
            state["momentum_buffer"] = Tensor._wrap(p.xp.empty_like(g))

        def step(x, g, buf):
            g = _decay_grad(x, g, group)
            if first:
                buf[...] = g                                 # b = g on the first step
            else:
                buf *= mu
                buf += (1 - dampening) * g
            x -= lr * (g + mu * buf if nesterov else buf)
        in_pieces(step, p.data, g, state["momentum_buffer"].data)


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates from the running sum of squared gradients, as in PyTorch.

    The notes' ``cache += dx**2; x += -lr * dx / (sqrt(cache) + eps)``, where the cache is
    ``state["sum"]`` (starting at ``initial_accumulator_value``) and the rate decays as
    ``lr / (1 + (t - 1) * lr_decay)`` at step t.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:     # PyTorch fills Adagrad's state up front
            for p in group["params"]:
                self._init_state(p, group)

    def _check_hyperparameters(self, group, where):
        super()._check_hyperparameters(group, where)
        for name in ("lr_decay", "initial_accumulator_value", "eps"):
            if group[name] < 0.0:
                raise ValueError(f"Adagrad{where}: invalid {name}={group[name]} (must be >= 0)")

    def _init_state(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["sum"] = self._zeros_like(p, group["initial_accumulator_value"])
        return state

    def _update(self, p, g, group):
        state, xp = self._init_state(p, group), p.xp
        state["step"] += 1
        clr = float(group["lr"]) / (1 + (state["step"] - 1) * group["lr_decay"])

        def step(x, g, cache):
            g = _decay_grad(x, g, group)
            cache += g * g
            std = xp.sqrt(cache)
            std += group["eps"]
            x -= clr * (g / std)
        in_pieces(step, p.data, g, state["sum"].data)


class RMSprop(Optimizer):
    """RMSprop: Adagrad with a leaky cache of squared gradients, as in PyTorch.

    The notes' ``cache = decay_rate * cache + (1 - decay_rate) * dx**2;
    x += -lr * dx / (sqrt(cache) + eps)`` with ``alpha`` = decay_rate and the cache in
    ``state["square_avg"]``. ``centered`` divides by an estimate of the gradient's standard deviation
    instead (subtracting the squared running mean ``grad_avg``); ``momentum`` accumulates the scaled
    step in ``momentum_buffer``: ``b = mu * b + g / avg; x -= lr * b``.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group, where):
        super()._check_hyperparameters(group, where)
        for name in ("eps", "momentum", "alpha"):
            if group[name] < 0.0:
                raise ValueError(f"RMSprop{where}: invalid {name}={group[name]} (must be >= 0)")

    def _update(self, p, g, group):
        xp, state = p.xp, self.state[p]
        if not state:
            state["step"] = 0
            state["square_avg"] = self._zeros_like(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = self._zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = self._zeros_like(p)
        state["step"] += 1
        alpha, lr, mu, centered = group["alpha"], float(group["lr"]), group["momentum"], group["centered"]

        def step(x, g, sq, *more):
            g = _decay_grad(x, g, group)
            sq *= alpha
            sq += (1 - alpha) * g * g
            if centered:
                mean = more[-1]
                _lerp_(mean, g, 1 - alpha)
                avg = xp.sqrt(sq - mean * mean)
            else:
                avg = xp.sqrt(sq)
            avg += group["eps"]
            if mu > 0:
                buf = more[0]
                buf *= mu
                buf += g / avg
                x -= lr * buf
            else:
                x -= lr * (g / avg)
        more = [state[k].data for k, on in (("momentum_buffer", mu > 0), ("grad_avg", centered)) if on]
        in_pieces(step, p.data, g, state["square_avg"].data, *more)


class Adam(Optimizer):
    """Adam with bias correction (and optionally AMSGrad), as in PyTorch.

    The notes' full update, with ``m`` = ``exp_avg`` and ``v`` = ``exp_avg_sq``::

        m = beta1*m + (1-beta1)*dx;  mt = m / (1-beta1**t)
        v = beta2*v + (1-beta2)*dx**2;  vt = v / (1-beta2**t)
        x += -lr * mt / (sqrt(vt) + eps)

    PyTorch (and so minigrad) computes the same as ``x -= lr/(1-beta1**t) * m / (sqrt(v)/sqrt(1-beta2**t) + eps)``.
    ``weight_decay`` adds ``wd * x`` to the gradient (L2, which Adam's scaling distorts: see AdamW);
    ``amsgrad`` divides by the running maximum of ``v`` (``max_exp_avg_sq``).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 *, maximize=False, decoupled_weight_decay=False):
        betas = tuple(float(b) for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group, where):
        super()._check_hyperparameters(group, where)
        name = type(self).__name__
        if group["eps"] < 0.0:
            raise ValueError(f"{name}{where}: invalid eps={group['eps']} (must be >= 0)")
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"{name}{where}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name}{where}: invalid beta parameter at index {i}: {b} (must be in [0, 1))")

    def _update(self, p, g, group):
        xp, state = p.xp, self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = self._zeros_like(p)
            state["exp_avg_sq"] = self._zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = self._zeros_like(p)
        state["step"] += 1
        t, lr, (beta1, beta2), wd = state["step"], float(group["lr"]), group["betas"], group["weight_decay"]
        maximize, decoupled, amsgrad = group["maximize"], group["decoupled_weight_decay"], group["amsgrad"]
        step_size = lr / (1 - beta1 ** t)
        bias_correction2_sqrt = (1 - beta2 ** t) ** 0.5

        def step(x, g, m, v, *vmax):
            if maximize:
                g = -g
            if wd != 0:
                if decoupled:
                    x *= 1 - lr * wd          # AdamW: shrink the weights, outside the adaptive scaling
                else:
                    g = g + wd * x
            _lerp_(m, g, 1 - beta1)           # m = beta1*m + (1-beta1)*g
            v *= beta2
            v += (1 - beta2) * g * g
            if amsgrad:
                xp.maximum(vmax[0], v, out=vmax[0])
                v = vmax[0]
            denom = xp.sqrt(v)
            denom /= bias_correction2_sqrt
            denom += group["eps"]
            x -= step_size * (m / denom)
        more = [state["max_exp_avg_sq"].data] if amsgrad else []
        in_pieces(step, p.data, g, state["exp_avg"].data, state["exp_avg_sq"].data, *more)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as in PyTorch.

    Each step first shrinks the weights, ``x *= 1 - lr * weight_decay``, then takes the Adam step
    on the raw gradient, so the decay is not rescaled by Adam's per-parameter rates.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
