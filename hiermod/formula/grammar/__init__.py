"""The formula grammar, shipped as package data (formula.lark links to the top-level grammar/)."""
