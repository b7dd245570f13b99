"""Training plans: the validated, canonical description of a training run (no torch here).

`model` holds the plan (TrainingPlan and its parts, plan.json), `rows` what a prompt or
preference row must look like, `chat_templates` the templates a plan can name; the lowering
(ccaic.lowering.plan) builds plans from `plan` blocks.
"""
