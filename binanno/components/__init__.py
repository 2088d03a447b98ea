"""What a recipe composes, at Prodigy's module paths: loaders, preprocess, sorters, filters, stream, db."""
