-- Per-site settings as a JSON object (model.SiteSettings); '{}' means every default.
ALTER TABLE sites ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
