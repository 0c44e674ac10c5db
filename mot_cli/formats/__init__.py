"""Readers and writers for the file formats mot-cli exchanges with other tools."""
