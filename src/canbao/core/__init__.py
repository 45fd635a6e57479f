"""The shared core: config, context, engine, errors, messages, text, dates, xlsx, privacy."""
