"""Lowering: the checked AST becomes typed, frozen specs, once.

Two kinds of module. The specs, which import nothing of ccaic.syntax, so the stages that read
them do not either: `assembly` (AssemblySpec), `conditions` (`where` conditions as predicates
with `mask(table)`), `constitution` (ConstitutionSpec, DEFAULT_TEMPLATE). And the modules that
read the AST and build them: `env` (the one evaluator of values: variables, paths),
`lower_conditions`, `lower_assembly`, `lower_constitution` and `plan` (the TrainingPlan and its
evaluate block). Every default is decided there and variables are put in and checked there;
after lowering no stage reads the syntax (the import contracts in .importlinter say so).
"""
