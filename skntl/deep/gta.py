"""GTA, Generate To Adapt (Sankaranarayanan et al., CVPR 2018), with the gate of Wang et al."""

from numbers import Integral, Real

import torch
from torch import nn
from torch.nn import functional as F

from ..utils._param_validation import Interval
from .engine import TransferNet
from .gate import gate_step
from .modules import Discriminator, _mlp_layers, frozen_call

__all__ = ["GTA"]

_IMAGE_SIZE = 32
_DEFAULT_GENERATOR_HIDDEN = {"features": (128, 128), "images": (128, 64, 32)}


def _input_kind(shape):
    """Return "features" or "images" for rows of ``shape``; raise for any other shape."""
    if len(shape) == 1:
        return "features"
    if len(shape) == 3 and shape[0] in (1, 3) and tuple(shape[1:]) == (_IMAGE_SIZE,) * 2:
        return "images"
    raise ValueError(
        "GTA's generator can only produce rows of 2-D feature inputs (n_samples, "
        "n_features) or of 32×32 images (n_samples, 1 or 3, 32, 32); it cannot produce "
        f"inputs with rows of shape {tuple(shape)}. Use another method (e.g. DANN) for "
        "these inputs, or resize the images to 32×32."
    )


def _check_channels(channels):
    """Validate the widths of D's conv trunk (``discriminator__channels``)."""
    ok = isinstance(channels, (tuple, list)) and 1 <= len(channels) <= 6
    if not (ok and all(isinstance(c, Integral) and c >= 1 for c in channels)):
        raise ValueError(
            "discriminator__channels must be 1 to 6 positive integer widths (one per "
            f"conv layer on 32×32 images), got {channels!r}."
        )
    return tuple(int(c) for c in channels)


def _onehot_input(f, y, noise, n_classes):
    """Return the generator's input ``[noise, f, onehot_{K+1}(y)]``."""
    onehot = F.one_hot(y, n_classes + 1).to(f.dtype)
    return torch.cat([noise, f, onehot], dim=1)


class _MLPGenerator(nn.Module):
    """G(noise, f, onehot_{K+1}(y)) → a feature row: ReLU MLP with a linear output."""

    def __init__(self, in_features, n_classes, noise_dim, out_features, hidden_layer_sizes):
        super().__init__()
        self.n_classes = int(n_classes)
        n_in = int(noise_dim) + int(in_features) + self.n_classes + 1
        sizes = (n_in, *map(int, hidden_layer_sizes), int(out_features))
        self.net = nn.Sequential(*_mlp_layers(sizes, final_activation=False))

    def forward(self, f, y, noise):
        """Return generated rows, shape ``(n, out_features)``."""
        return self.net(_onehot_input(f, y, noise, self.n_classes))


class _ConvGenerator(nn.Module):
    """G(noise, f, onehot_{K+1}(y)) → a 32×32 image, DCGAN-style.

    The input vector is a 1×1 map, lifted to 4×4 by a 4×4 transposed
    convolution and doubled three times (8, 16, 32) by stride-2 transposed
    convolutions; each hidden map has BatchNorm and ReLU, the output is linear.
    ``channels`` are the widths at 4×4, 8×8 and 16×16.
    """

    def __init__(self, in_features, n_classes, noise_dim, out_channels, channels):
        super().__init__()
        self.n_classes = int(n_classes)
        c0, c1, c2 = map(int, channels)
        n_in = int(noise_dim) + int(in_features) + self.n_classes + 1
        self.net = nn.Sequential(
            nn.ConvTranspose2d(n_in, c0, 4, 1, 0, bias=False),
            nn.BatchNorm2d(c0),
            nn.ReLU(),
            nn.ConvTranspose2d(c0, c1, 4, 2, 1, bias=False),
            nn.BatchNorm2d(c1),
            nn.ReLU(),
            nn.ConvTranspose2d(c1, c2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(c2),
            nn.ReLU(),
            nn.ConvTranspose2d(c2, int(out_channels), 4, 2, 1),
        )

    def forward(self, f, y, noise):
        """Return generated images, shape ``(n, out_channels, 32, 32)``."""
        z = _onehot_input(f, y, noise, self.n_classes)
        return self.net(z[:, :, None, None])


class _GTADiscriminator(nn.Module):
    """GTA's discriminator in input space: a trunk and three heads.

    ``trunk`` maps an input row to a feature vector h: a LeakyReLU MLP of
    widths ``hidden_layer_sizes`` for feature rows, or for 32×32 images
    LeakyReLU convolutions of widths ``channels``: stride-2 4×4 ones halving
    the map (32 → 16 → 8 → 4 by default), then one covering the rest (DCGAN's
    discriminator). ``real_fake`` (h → 1 logit, "is x real?") and
    ``aux`` (h → K logits, the auxiliary classifier) are GTA's heads. ``gate``,
    present with the gate, is a label-conditioned :class:`Discriminator` on h
    answering "is (x, y) from the target?" (:ref:`decision D21 <decision-d21>`). There is no
    BatchNorm: real and generated rows share forward passes, and the gate reads
    the trunk in eval mode exactly as it did in training.
    """

    def __init__(self, input_shape, n_classes, hidden_layer_sizes, gate_hidden=None,
                 channels=(32, 64, 128, 128), dropout=0.0, kind="concat"):
        super().__init__()
        layers = []
        if len(input_shape) == 1:
            sizes = (int(input_shape[0]), *map(int, hidden_layer_sizes))
            for n_in, n_out in zip(sizes[:-1], sizes[1:]):
                layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]
                if dropout:
                    layers.append(nn.Dropout(dropout))
            width = sizes[-1]
        else:
            channels = _check_channels(channels)
            c_in, size = int(input_shape[0]), _IMAGE_SIZE
            for c in channels[:-1]:  # DCGAN-style: stride-2 4×4 convolutions halve the map
                layers += [nn.Conv2d(c_in, c, 4, 2, 1), nn.LeakyReLU(0.2)]
                c_in, size = c, size // 2
            # the last convolution covers the whole remaining map: a 1×1 output
            layers += [nn.Conv2d(c_in, channels[-1], size), nn.LeakyReLU(0.2), nn.Flatten()]
            c_in = channels[-1]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = c_in
        self.trunk = nn.Sequential(*layers)
        self.out_features = width
        self.real_fake = nn.Linear(width, 1)
        self.aux = nn.Linear(width, int(n_classes))
        self.gate = None
        if gate_hidden is not None:
            self.gate = Discriminator(width, n_classes, gate_hidden, dropout=dropout, kind=kind)

    def forward(self, x):
        """Return ``(real_fake_logits (n,), aux_logits (n, K), trunk_features (n, h))``."""
        h = self.trunk(x)
        return self.real_fake(h).squeeze(1), self.aux(h), h

    def gate_logits(self, x, y=None):
        """Return the gate head's logits on inputs ``x`` with labels ``y`` (None: ``nil``)."""
        return self.gate(self.trunk(x), y)


class GTA(TransferNet):
    """Generate To Adapt: domain alignment through a conditional image generator.

    F (``module_.feature``) embeds the inputs; C (``module_.classifier``)
    classifies the embedding. A generator G(z, f, onehot_{K+1}(y)) with noise
    z ~ N(0, 1) turns an embedding back into an input: source rows are
    conditioned on their label, unlabeled-target rows on the ``nil`` slot K. A
    discriminator D in **input space** has a real/fake head and an auxiliary
    K-way classifier. Each step, on fresh forward passes (:ref:`method-methods`,
    following the authors' public code):

    * D minimises BCE(D(x_s), real) + CE(aux(x_s), y_s) + BCE(D(G(f_s, y_s)), fake)
      + BCE(D(G(f_u, nil)), fake), plus CE(aux(x_l), y_l) on labeled target rows
      (:ref:`decision D20 <decision-d20>`);
    * G minimises BCE(D(G(f_s, y_s)), real) + CE(aux(G(f_s, y_s)), y_s);
    * C minimises the classification cross-entropy on source and labeled target;
    * F minimises that cross-entropy plus
      μ·(``aux_weight``·CE(aux(G(f_s, y_s)), y_s) + ``adv_weight``·BCE(D(G(f_u, nil)), real)):
      source embeddings must generate images of their class, target embeddings
      images that pass for real source ones.

    With ``gate=True`` (GTA_gate, :ref:`decision D21 <decision-d21>`) D gets a
    third, label-conditioned domain
    head D_g(h(x), onehot_{K+1}(y)) on its trunk features h of **real** inputs,
    trained on the four terms of eq. (10) (source 0, target 1; ``nil`` and label
    inputs) on detached h, so it is adversarial to nothing. Each source row's
    classification loss is weighted by ω = SG(D_g/(1 − D_g)) and scaled by
    ``gate_lambda``; without labeled target ω comes from the ``nil`` output
    (:ref:`decision D11 <decision-d11>`).

    Parameters
    ----------
    module : None, str, torch.nn.Module instance or class, default=None
        The network F + C; see :class:`~skntl.deep.TransferNet`. Whatever the
        module, G must produce inputs of X's row shape, so X must be 2-D
        features or 32×32 images with 1 or 3 channels (``module=None`` picks
        the MLP or GTA's LeNet); other shapes (e.g. ``"resnet50"`` on 224×224
        images) raise a ValueError in ``fit``.
    gate : bool, default=False
        Add the gate head to D and weight the source loss by its ω.
    gate_lambda : float, default=1.0
        λ of eq. (9).
    mu : float, default=1.0
        Final weight μ of F's two generator terms (ramped by ``mu_schedule``).
    noise_dim : int, default=32
        Dimension of G's noise z; 0 makes G deterministic. GTA's code uses 512
        for digits.
    generator_hidden : None or tuple of int, default=None
        G's widths. For feature inputs, the hidden widths of its ReLU MLP
        (None: (128, 128)); for images, the channels of its 4×4, 8×8 and 16×16
        maps (three values; None: (128, 64, 32)).
    aux_weight : float, default=0.1
        Weight of CE(aux(G(f_s, y_s)), y_s) in F's loss (GTA's ``adv_weight``).
    adv_weight : float, default=0.03
        Weight of BCE(D(G(f_u, nil)), real) in F's loss (GTA's
        ``adv_weight · alpha`` = 0.1 · 0.3).
    **kwargs
        Every other parameter of :class:`~skntl.deep.TransferNet`
        (``hidden_layer_sizes``, ``discriminator_hidden``, ``max_epochs``,
        ``batch_size``, ``lr``, ``random_state``, skorch's ``prefix__name``
        parameters, ...). ``discriminator_hidden`` gives the widths of D's MLP
        trunk for feature inputs and of the gate head; ``discriminator__channels``
        (default (32, 64, 128, 128)) the widths of D's DCGAN-style conv trunk for
        images;
        ``discriminator__dropout`` adds dropout to D.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    module_ : TransferModule
        The trained F + C.
    generator_ : torch.nn.Module
        The trained G, called as ``generator_(f, y, noise)`` with encoded
        labels ``y`` (``len(classes_)`` for ``nil``) and noise of shape
        ``(n, noise_dim)``; returns rows of X's shape.
    discriminator_ : torch.nn.Module
        The trained D: ``trunk``, ``real_fake`` and ``aux`` heads, and the
        ``gate`` head (a :class:`~skntl.deep.Discriminator`, None without the
        gate).
    history_ : skorch.History
        Training log, per batch and as epoch means: ``clf_loss``, ``d_loss``
        (D's GAN loss), ``g_loss`` (G's loss), ``aux_acc`` (accuracy of D's
        auxiliary head on the real source batch), and with the gate
        ``gate_loss`` and ``omega_mean``.
    n_iter_ : int
        Optimisation steps taken by the last call to ``fit`` or ``partial_fit``.

    See Also
    --------
    skntl.DANN : Adversarial alignment of the features themselves.
    skntl.fit_target_only : The target-only twin GTA_T.

    Notes
    -----
    Differences from the authors' code, all deliberate:

    * One optimiser and one backward pass per step. Each network receives the
      gradient of its own loss only: the terms of another player's loss use its
      parameters through :func:`torch.func.functional_call` with detached
      parameters (and copied BatchNorm buffers), and inputs a network must not
      learn from are detached. All four networks are thus updated
      simultaneously from the same parameters, where the original code steps
      D, G, C and F one after another and reuses stale graphs.
    * F's two generator terms are scaled by μ (``mu_schedule``), so they fade
      in like the adversarial term of the other methods.
    * G's output is linear, not tanh: the input scaling is the user's.
      D has no BatchNorm and reads the same (normalised) inputs as F.
    * ``sample_weight`` and ω weight the classification loss only.

    References
    ----------
    .. [1] Sankaranarayanan, Balaji, Castillo and Chellappa, "Generate To
       Adapt: Aligning Domains using Generative Adversarial Networks",
       CVPR 2018 (code: github.com/yogeshbalaji/Generate_To_Adapt).
    .. [2] Wang, Dai, Póczos and Carbonell, "Characterizing and Avoiding
       Negative Transfer", CVPR 2019.

    Examples
    --------
    >>> from skntl import GTA
    >>> from skntl.datasets import make_transfer_blobs
    >>> Xs, ys, Xt, yt = make_transfer_blobs(200, 100, marginal_shift=3.0, random_state=0)
    >>> net = GTA(gate=True, max_epochs=3, random_state=0).fit(Xs, ys, Xt[:9], yt[:9], Xt)
    >>> d, omega = net.predict_weights(Xs[:4], ys[:4])
    >>> omega.shape
    (4,)
    """

    _aligns_without_discriminator = True

    _parameter_constraints = {
        **TransferNet._parameter_constraints,
        "noise_dim": [Interval(Integral, 0, None, closed="left")],
        "generator_hidden": ["array-like", None],
        "aux_weight": [Interval(Real, 0, None, closed="left")],
        "adv_weight": [Interval(Real, 0, None, closed="left")],
    }
    _epoch_mean_keys = (*TransferNet._epoch_mean_keys, "g_loss", "aux_acc", "gate_loss")

    def __init__(self, module=None, *, gate=False, gate_lambda=1.0, mu=1.0, noise_dim=32,
                 generator_hidden=None, aux_weight=0.1, adv_weight=0.03, **kwargs):
        super().__init__(module, gate=gate, gate_lambda=gate_lambda, mu=mu, **kwargs)
        self.noise_dim = noise_dim
        self.generator_hidden = generator_hidden
        self.aux_weight = aux_weight
        self.adv_weight = adv_weight

    # ------------------------------------------------------------- building
    def _check_params(self):
        super()._check_params()
        sizes = self.generator_hidden
        if sizes is not None and not (
            len(sizes) > 0 and all(isinstance(s, Integral) and s >= 1 for s in sizes)
        ):
            raise ValueError(f"generator_hidden must be positive integers, got {sizes!r}.")

    def _generator_sizes(self, kind):
        sizes = self.generator_hidden
        if sizes is None:
            return _DEFAULT_GENERATOR_HIDDEN[kind]
        sizes = tuple(int(s) for s in sizes)
        if kind == "images" and len(sizes) != 3:
            raise ValueError(
                "For images generator_hidden gives the generator's channels at 4×4, 8×8 "
                f"and 16×16: three values, got {sizes!r}."
            )
        return sizes

    def initialize(self):
        """Check that G can produce X's rows, then build every network and the optimiser."""
        # Before skorch builds anything: a shape G cannot produce leaves no
        # fitted component behind (and never builds a ResNet-50 for nothing).
        kind = _input_kind(self._fit_shape_)
        self._generator_sizes(kind)
        if kind == "images" and "channels" in self.get_params_for("discriminator"):
            _check_channels(self.get_params_for("discriminator")["channels"])
        return super().initialize()

    # The gate head is trained on all four terms of eq. (10) on detached
    # trunk features and only produces ω (the base class's gate specs).

    def _build_discriminator(self, n_features, n_classes, spec):
        return _GTADiscriminator(
            self._fit_shape_,
            n_classes,
            self.discriminator_hidden,
            gate_hidden=None if spec is None else self.discriminator_hidden,
            **{"kind": self.discriminator_kind, **self.get_params_for("discriminator")},
        )

    def initialize_module(self):
        """Build F + C, GTA's discriminator D and the generator G."""
        super().initialize_module()
        shape, n_classes = self._fit_shape_, len(self.classes_)
        kind = _input_kind(shape)
        args = (self._n_features_out_, n_classes, self.noise_dim)
        if kind == "features":
            self.generator_ = _MLPGenerator(*args, shape[0], self._generator_sizes(kind))
        else:
            self.generator_ = _ConvGenerator(*args, shape[0], self._generator_sizes(kind))
        return self

    def _source_gate_logits(self, x, y):
        return self.discriminator_.gate_logits(x, y)

    def _draw_noise(self, n):
        """G's noise z ~ N(0, 1), drawn from torch's (forked, seeded) CPU generator."""
        return torch.randn(n, self.noise_dim).to(self.device)

    def train_step_single(self, batch, **fit_params):
        """One simultaneous step of D, G, C and F (and the gate head) on a batch.

        The summed loss is back-propagated once; each network receives the
        gradient of its own loss only (see the class Notes).
        """
        ws, _ = self._step_prologue(batch)
        xs, ys, xu, xl, yl = batch.xs, batch.ys, batch.xu, batch.xl, batch.yl
        fs, fu, fl = self._encode_streams(self.module_.feature, xs, xu, xl)
        D, G = self.discriminator_, self.generator_
        n_s = len(xs)
        n_u = 0 if xu is None else len(xu)
        n_l = 0 if xl is None else len(xl)
        bce = F.binary_cross_entropy_with_logits

        # G's conditioning: source rows with their labels, unlabeled target with nil.
        f_gen = fs if fu is None else torch.cat([fs, fu])
        y_gen = ys if fu is None else torch.cat([ys, ys.new_full((n_u,), len(self.classes_))])
        noise = self._draw_noise(len(f_gen))
        gen = G(f_gen.detach(), y_gen, noise)  # G's only live pass: F gets nothing from it

        # D: real rows and detached fakes in one pass.
        gated = D.gate is not None and n_u > 0
        real = [xs] + ([xl] if n_l else []) + ([xu] if gated else [])
        n_real = [len(t) for t in real]
        rf, aux, h = D(torch.cat([*real, gen.detach()]))
        sizes = [*n_real, n_s] + ([n_u] if n_u else [])
        rf_parts, aux_parts, h_parts = (list(torch.split(t, sizes)) for t in (rf, aux, h))
        rf_real_s, aux_real_s = rf_parts[0], aux_parts[0]
        d_loss = (
            bce(rf_real_s, torch.ones_like(rf_real_s))
            + F.cross_entropy(aux_real_s, ys)
            + bce(rf_parts[len(real)], torch.zeros_like(rf_parts[len(real)]))
        )
        if n_u:
            d_loss = d_loss + bce(rf_parts[-1], torch.zeros_like(rf_parts[-1]))
        if n_l:
            d_loss = d_loss + F.cross_entropy(aux_parts[1], yl)

        # G's loss and F's generator terms: D (and, for F, G) as frozen functions.
        mu = self.current_mu()
        f_terms = mu * (self.aux_weight + self.adv_weight) > 0
        fakes = [gen[:n_s]]
        if f_terms:
            fakes.append(frozen_call(G, f_gen, y_gen, noise))
        rf_f, aux_f, _ = frozen_call(D, torch.cat(fakes))
        g_loss = bce(rf_f[:n_s], torch.ones_like(rf_f[:n_s])) + F.cross_entropy(aux_f[:n_s], ys)
        loss = d_loss + g_loss
        if f_terms:
            f_adv = self.aux_weight * F.cross_entropy(aux_f[n_s : 2 * n_s], ys)
            if n_u:
                rf_u = rf_f[2 * n_s :]
                f_adv = f_adv + self.adv_weight * bce(rf_u, torch.ones_like(rf_u))
            loss = loss + mu * f_adv

        # The gate head on detached trunk features of the real rows
        # (:ref:`decision D21 <decision-d21>`).
        omega = None
        gate_loss = None
        if gated:
            h_l = h_parts[1] if n_l else None
            out = gate_step(
                D.gate, self._gate_spec(), h_parts[0], ys, h_parts[len(real) - 1], h_l, yl,
                mu=mu,
            )
            gate_loss, omega = out.loss, out.omega
            loss = loss + gate_loss

        clf, logits_s = self._classification_loss(batch, fs, fl, ws, omega)
        loss = loss + clf
        loss.backward()

        aux_acc = (aux_real_s.detach().argmax(1) == ys).float().mean()
        logged = [d_loss.detach(), g_loss.detach(), aux_acc]
        if gate_loss is not None:
            logged.append(gate_loss.detach())
        values = torch.stack(logged).tolist()
        self._record_batch(**dict(zip(("d_loss", "g_loss", "aux_acc", "gate_loss"), values)))
        return {"loss": loss, "y_pred": logits_s}
