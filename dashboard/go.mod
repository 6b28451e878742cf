module idxstream/dashboard

go 1.26.0
