module switchyard/bench/mock

go 1.22
