"""OCPP 2.0.1 actions initiated by the charging station."""
