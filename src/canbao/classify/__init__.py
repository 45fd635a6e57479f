"""Classify: who must be insured (eligibility), coverage and registration (status), findings."""
