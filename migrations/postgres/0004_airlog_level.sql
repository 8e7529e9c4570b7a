-- Airlog rows come at two levels: one per item aired or attempted ('item', every row
-- before this migration) and one per slot instance ('slot', no bulletin), opened when the
-- slot begins and closed when it ends. Exports and makeups read item rows; the hash chain
-- holds both.
ALTER TABLE airlog ADD COLUMN level TEXT NOT NULL DEFAULT 'item' CHECK (level IN ('item', 'slot'));
