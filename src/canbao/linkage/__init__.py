"""Stage 4, linkage (比对): enrollment, national_match and students rows → persons.

Splink is imported only inside this package (lazily, inside functions); see
``link.link_period`` for the stage and ``charts`` for the notebook's model views.
"""

from canbao.linkage.link import link_period
from canbao.linkage.model_charts import load_linker

__all__ = ["link_period", "load_linker"]
