"""Client input read with bounds: query parameter values and JSON text (no Flask).

Shared by the declared API contract (geoapp.web.contract) and the domain code that parses
filters (geoapp.ogc.features) or ids (geoapp.users.audit); every refusal names the parameter.
"""
