"""OCPP 1.6J actions initiated by the charger."""
