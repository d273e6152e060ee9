"""City harvesters of Vier Städte Open Data: fetch, read, normalise, validate, publish."""
