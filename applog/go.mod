module idxstream/applog

go 1.26.0
