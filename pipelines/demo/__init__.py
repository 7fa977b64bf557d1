"""The demo company (Northwind Instruments): a deterministic generator of its system exports."""
