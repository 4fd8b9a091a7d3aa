"""Operations: what a deployer runs beside the bridge (health probes, retention, checks)."""
