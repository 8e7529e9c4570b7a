-- The slot rows of a station in a period (reports read them beside the item rows) without
-- scanning the station's item rows.
CREATE INDEX airlog_station_level ON airlog (station, level, planned_start);
