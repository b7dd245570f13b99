"""The training steps, one module each; ccaic.registry.steps names them, the runner runs them.

`base` holds the protocol (`TrainStep`) and the stored-step base class, `context` what every
step reads, `training` what trainer steps share.
"""
