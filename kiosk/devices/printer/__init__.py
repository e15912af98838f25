"""The thermal ticket printer: ESC/POS encoding (Chinese via FS &), ticket and guide layouts, status, backends."""
