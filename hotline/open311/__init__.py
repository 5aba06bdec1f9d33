"""Open311 GeoReport v2 under /open311/v2: services are the second-level categories, requests are tickets."""
