"""Training settings of published experiments, as parameters of any deep estimator."""

import torch

__all__ = ["paper_preset"]


def paper_preset(backbone="resnet50"):
    """Return the paper's training settings as parameters (:ref:`decision D14 <decision-d14>`).

    Parameters
    ----------
    backbone : {"resnet50", "lenet"}, default="resnet50"
        ``"resnet50"``: SGD with momentum 0.9 and weight decay 5e-4, learning
        rate 0.01 for the new layers and 0.001 for the pretrained backbone,
        decayed as (1+10p)^-0.75, batches of 32, discriminator
        1024-1024 with dropout 0.5. ``"lenet"``: GTA's digit settings, Adam
        with learning rate 5e-4 and β1 = 0.8, batches of 128, discriminator
        500-500.

    Returns
    -------
    params : dict
        Keyword arguments for any deep estimator, e.g.
        ``DANN(**paper_preset(), module__weights="resnet50.pth", max_epochs=...)``.
    """
    if backbone == "resnet50":
        return {
            "module": "resnet50",
            "optimizer": torch.optim.SGD,
            "lr": 0.01,
            "optimizer__momentum": 0.9,
            "optimizer__weight_decay": 5e-4,
            "optimizer__param_groups": [("feature.backbone.*", {"lr": 0.001})],
            "lr_schedule": "dann",
            "batch_size": 32,
            "discriminator_hidden": (1024, 1024),
            "discriminator__dropout": 0.5,
        }
    if backbone == "lenet":
        return {
            "module": "lenet",
            "optimizer": torch.optim.Adam,
            "lr": 5e-4,
            "optimizer__betas": (0.8, 0.999),
            "batch_size": 128,
            "discriminator_hidden": (500, 500),
        }
    raise ValueError(f"backbone must be 'resnet50' or 'lenet', got {backbone!r}.")

