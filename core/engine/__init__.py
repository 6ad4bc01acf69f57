"""The network, its optimizers, the run's configuration, control, events and the Trainer that drives it."""
