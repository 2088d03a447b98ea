"""Lazy streams of tasks: loaders, preprocessing, sorters and filters."""
