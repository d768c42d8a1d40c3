module github.com/solcrowd/backend/services/pricer

go 1.26.8

require github.com/solcrowd/backend/libs v0.0.0

replace github.com/solcrowd/backend/libs => ../../libs
