"""CS231n's ``optim`` module names: update rules ``rule(w, dw, config) -> (next_w, config)``."""

from cnnlab.training.optim import adam, adamw, rmsprop, sgd, sgd_momentum
