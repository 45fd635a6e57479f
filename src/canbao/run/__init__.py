"""Running a district: pipeline order, stage records, notebook execution, lock, manifest."""
