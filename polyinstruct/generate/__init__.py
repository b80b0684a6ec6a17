"""Responses of every run to every eval set (rules/generate.smk)."""
