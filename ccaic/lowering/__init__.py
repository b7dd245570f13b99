"""Lowering: the checked AST becomes typed, frozen specs, once.

`assembly` (AssemblySpec), `constitution` (ConstitutionSpec), `plan` (the TrainingPlan and its
evaluate block) and `conditions` (`where` conditions compiled to predicates). Every default is
resolved here and variables are substituted and checked here; after lowering no stage reads
`ccaic.syntax` again (the import contracts in .importlinter say so).
"""
