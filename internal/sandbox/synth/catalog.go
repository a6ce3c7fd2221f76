package synth

import "github.com/psd2bank/psd2bank/internal/money"

// The static cast of the history: merchants, billers, employers, business
// partners and the names of people outside the bank. Account numbers of
// outside parties are drawn at setup.

// merchant is a card acceptor as it appears on a card slip.
type merchant struct {
	title  string // as printed: "BIEDRONKA"
	store  bool   // a 4-digit store number follows the title
	lo, hi money.Amount
	weight int
	city   string // fixed city (online shops); "" for the customer's own
	sort   string // the first 7 digits of the sort code of the acceptor's bank, or a country for a foreign IBAN
}

// domesticMerchants are where retail customers pay by card in PLN.
var domesticMerchants = []merchant{
	{title: "BIEDRONKA", store: true, lo: 1200, hi: 18000, weight: 20, sort: "1020102"},
	{title: "LIDL", store: true, lo: 1500, hi: 26000, weight: 14, sort: "1050000"},
	{title: "ŻABKA Z", store: true, lo: 450, hi: 4500, weight: 16, sort: "1140200"},
	{title: "KAUFLAND", store: true, lo: 3000, hi: 32000, weight: 5, sort: "1240103"},
	{title: "CARREFOUR", store: true, lo: 2000, hi: 22000, weight: 4, sort: "1600146"},
	{title: "ORLEN STACJA NR", store: true, lo: 8000, hi: 35000, weight: 6, sort: "1240103"},
	{title: "ROSSMANN", store: true, lo: 1500, hi: 15000, weight: 6, sort: "1090101"},
	{title: "HEBE", store: true, lo: 1500, hi: 12000, weight: 2, sort: "1140200"},
	{title: "APTEKA DOZ", store: true, lo: 900, hi: 14000, weight: 3, sort: "1020102"},
	{title: "PEPCO", store: true, lo: 1500, hi: 9000, weight: 2, sort: "1160220"},
	{title: "EMPIK", store: true, lo: 2000, hi: 15000, weight: 2, sort: "1050000"},
	{title: "MCDONALD'S", store: true, lo: 1900, hi: 7500, weight: 4, sort: "1090101"},
	{title: "KFC", store: true, lo: 2200, hi: 6800, weight: 2, sort: "1090101"},
	{title: "STARBUCKS", store: true, lo: 1400, hi: 4200, weight: 2, sort: "1140200"},
	{title: "CINEMA CITY", store: true, lo: 2500, hi: 11000, weight: 1, sort: "1240103"},
	{title: "MEDIA EXPERT", store: true, lo: 4900, hi: 250000, weight: 1, sort: "1020102"},
	{title: "IKEA", store: true, lo: 3000, hi: 150000, weight: 1, sort: "1050000"},
	{title: "CASTORAMA", store: true, lo: 2500, hi: 60000, weight: 1, sort: "2490000"},
	{title: "ALLEGRO.PL", lo: 1900, hi: 60000, weight: 5, city: "POZNAŃ", sort: "1140200"},
	{title: "UBER *TRIP", lo: 1500, hi: 8500, weight: 3, city: "AMSTERDAM", sort: "1050000"},
	{title: "BOLT.EU/O", lo: 1200, hi: 7000, weight: 3, city: "TALLINN", sort: "1160220"},
	{title: "PKP INTERCITY", lo: 2900, hi: 22000, weight: 1, city: "WARSZAWA", sort: "1130101"},
	{title: "JAKDOJADE.PL", lo: 340, hi: 1100, weight: 2, city: "WROCŁAW", sort: "1140200"},
	{title: "PYSZNE.PL", lo: 3500, hi: 12000, weight: 2, city: "WROCŁAW", sort: "1050000"},
}

// fuelMerchants are where firms' fuel cards are used.
var fuelMerchants = []merchant{
	{title: "ORLEN STACJA NR", store: true, lo: 15000, hi: 95000, weight: 5, sort: "1240103"},
	{title: "BP", store: true, lo: 15000, hi: 90000, weight: 3, sort: "1050000"},
	{title: "SHELL", store: true, lo: 15000, hi: 90000, weight: 2, sort: "1160220"},
	{title: "CIRCLE K", store: true, lo: 15000, hi: 85000, weight: 3, sort: "1090101"},
	{title: "MOL", store: true, lo: 15000, hi: 80000, weight: 1, sort: "1020102"},
}

// subscription is a monthly card payment of a fixed amount.
type subscription struct {
	title, city string
	amount      money.Amount
	sort        string
}

var subscriptions = []subscription{
	{"NETFLIX.COM", "AMSTERDAM", 4900, "1050000"},
	{"SPOTIFY", "STOCKHOLM", 2399, "1140200"},
	{"GOOGLE *YOUTUBE PREMIUM", "DUBLIN", 2599, "1240103"},
	{"HBO MAX", "WARSZAWA", 2999, "1020102"},
	{"APPLE.COM/BILL", "CORK", 1199, "1050000"},
}

// trip is a holiday abroad paid from a EUR account.
type trip struct {
	city    string
	country string
	shops   []string
	lo, hi  money.Amount
	weight  int
}

var trips = []trip{
	{"BERLIN", "DE", []string{"EDEKA", "REWE", "DB FERNVERKEHR", "ROSSMANN", "CURRY 36", "BVG AUTOMAT", "KADEWE"}, 250, 12000, 2},
	{"WIEN", "AT", []string{"BILLA", "SPAR", "WIENER LINIEN", "CAFE CENTRAL", "ALBERTINA MUSEUM"}, 300, 9000, 1},
	{"BARCELONA", "ES", []string{"MERCADONA", "TMB METRO", "SAGRADA FAMILIA", "BAR PINOTXO", "EL CORTE INGLES"}, 250, 15000, 1},
	{"ROMA", "IT", []string{"CONAD", "TRENITALIA", "MUSEI VATICANI", "TRATTORIA DA ENZO", "ATAC"}, 200, 12000, 1},
	{"PRAHA", "CZ", []string{"ALBERT", "DPP PRAHA", "LOKAL DLOUHAA", "NARODNI MUZEUM"}, 200, 6000, 1},
}

// eurOnline are card payments in EUR from home.
var eurOnline = []merchant{
	{title: "AMAZON.DE", lo: 900, hi: 15000, weight: 4, city: "LUXEMBOURG", sort: "LU"},
	{title: "ZALANDO SE", lo: 2500, hi: 12000, weight: 2, city: "BERLIN", sort: "DE"},
	{title: "BOOKING.COM", lo: 6000, hi: 45000, weight: 2, city: "AMSTERDAM", sort: "NL"},
	{title: "RYANAIR", lo: 2500, hi: 18000, weight: 2, city: "DUBLIN", sort: "IE"},
	{title: "STEAMGAMES.COM", lo: 500, hi: 6000, weight: 1, city: "BELLEVUE", sort: "LU"},
}

// biller sends a retail customer a bill every month or every few months.
type biller struct {
	name   string
	title  string // fmt pattern with the period "MM/YYYY" and a number
	lo, hi money.Amount
	every  int // months between bills
	day    int // day of the month it is paid
	winter bool
	sort   string
}

var (
	pge   = biller{"PGE Obrót S.A.", "Faktura za energię elektryczną nr %[2]s za okres %[1]s", 14000, 32000, 2, 18, false, "1020102"}
	gas   = biller{"PGNiG Obrót Detaliczny Sp. z o.o.", "Paliwo gazowe - prognoza %[1]s, nr klienta %[2]s", 6000, 14000, 1, 20, true, "1240103"}
	orng  = biller{"Orange Polska S.A.", "Orange Światłowód + TV FV %[2]s za %[1]s", 11999, 13999, 1, 12, false, "1050000"}
	play  = biller{"P4 Sp. z o.o. (Play)", "PLAY abonament nr konta %[2]s za %[1]s", 5999, 7999, 1, 15, false, "1160220"}
	upc   = biller{"P4 Sp. z o.o. (dawniej UPC Polska)", "Internet i TV UPC/Play faktura %[2]s za %[1]s", 9999, 12999, 1, 22, false, "1160220"}
	mpwik = biller{"Miejskie Przedsiębiorstwo Wodociągów i Kanalizacji w m.st. Warszawie S.A.", "Woda i ścieki %[1]s nr odbiorcy %[2]s", 9000, 21000, 3, 10, false, "1240103"}
	wmk   = biller{"Wodociągi Miasta Krakowa S.A.", "Należność za wodę %[1]s nr klienta %[2]s", 7000, 16000, 3, 10, false, "1020102"}
	tau   = biller{"TAURON Sprzedaż Sp. z o.o.", "Energia elektryczna FV %[2]s za %[1]s", 9000, 24000, 1, 14, false, "1050000"}
	smo   = biller{"Spółdzielnia Mieszkaniowa Ochota", "Opłaty eksploatacyjne %[1]s lokal nr %[2]s", 58000, 71000, 1, 10, false, "1020102"}
	ksm   = biller{"Krakowska Spółdzielnia Mieszkaniowa", "Czynsz %[1]s lokal %[2]s", 42000, 52000, 1, 10, false, "1240103"}
	smm   = biller{"Spółdzielnia Mieszkaniowa Mokotów", "Opłaty za lokal %[1]s nr %[2]s", 61000, 74000, 1, 10, false, "1160220"}
)

// partner is a firm outside the bank that buys from or sells to our firms.
type partner struct {
	name   string
	nip9   string // the first nine digits of its NIP
	sort   string // 7 digits of a sort code, or a country for a foreign IBAN
	what   string // what the invoice is for: at most 33 characters
	lo, hi money.Amount
	weight int
	vat    int64 // VAT rate in basis points; 0 means 23%, -1 exempt
}

// Budowa Polska's clients, paying invoices by split payment.
var budowaClients = []partner{
	{"Generalna Dyrekcja Dróg Krajowych i Autostrad", "526215349", "1130101", "Roboty drogowe S7 odc. 4", zl(80_000), zl(950_000), 3, 0},
	{"Miasto Stołeczne Warszawa", "525225662", "1030150", "Przebudowa ul. Grochowskiej", zl(40_000), zl(700_000), 3, 0},
	{"PKP Polskie Linie Kolejowe S.A.", "113235138", "1130101", "Modernizacja przystanku", zl(60_000), zl(900_000), 2, 0},
	{"Dom Development S.A.", "525168254", "1140200", "Osiedle Nowe Bemowo etap 2", zl(30_000), zl(600_000), 3, 0},
	{"Echo Investment S.A.", "657023642", "1240103", "Biurowiec Fabryczna - stan surowy", zl(40_000), zl(800_000), 2, 0},
	{"Uniwersytecki Szpital Kliniczny we Wrocławiu", "896103621", "1090101", "Rozbudowa bloku operacyjnego", zl(30_000), zl(500_000), 1, 0},
	{"Gmina Miasto Rzeszów", "813168434", "1020102", "Hala sportowa - etap 1", zl(20_000), zl(400_000), 1, 0},
}

// Budowa Polska's suppliers and subcontractors.
var budowaSuppliers = []partner{
	{"Cemex Polska Sp. z o.o.", "521293041", "1240103", "Beton C30/37", zl(3_000), zl(180_000), 6, 0},
	{"Górażdże Cement S.A.", "754000624", "1050000", "Cement CEM I 42,5R", zl(4_000), zl(160_000), 4, 0},
	{"ArcelorMittal Poland S.A.", "634013597", "1020102", "Pręty zbrojeniowe B500SP", zl(8_000), zl(350_000), 4, 0},
	{"Stalprofil S.A.", "645000102", "1160220", "Kształtowniki stalowe", zl(3_000), zl(120_000), 3, 0},
	{"Ramirent S.A.", "521289456", "1090101", "Wynajem rusztowań", zl(2_000), zl(60_000), 4, 0},
	{"Kruszywa Mazowsze Sp. z o.o.", "822214567", "1940107", "Kruszywo 0-31,5 mm", zl(1_500), zl(45_000), 5, 0},
	{"Hydro-Tech Instalacje Sp. z o.o.", "951245677", "2490000", "Instalacje sanitarne podwyk.", zl(10_000), zl(240_000), 3, 0},
	{"Elektro-Montaż Kraków Sp. z o.o.", "677231455", "1020102", "Instalacje elektryczne podwyk.", zl(8_000), zl(200_000), 3, 0},
	{"Atlas Sp. z o.o.", "727001234", "1240103", "Chemia budowlana", zl(1_000), zl(40_000), 3, 0},
	{"Transbet Sp. z o.o.", "534245612", "1140200", "Transport betonu pompą", zl(1_500), zl(30_000), 4, 0},
	{"Bud-Geo Usługi Geodezyjne s.c.", "951190233", "1870100", "Obsługa geodezyjna budowy", zl(1_200), zl(15_000), 2, 0},
	{"Hotel Logistyka Sp. z o.o.", "521345618", "1050000", "Zakwaterowanie brygad", zl(2_000), zl(35_000), 2, 0},
}

// Budowa Polska's foreign partners, in EUR.
var budowaForeignClients = []partner{
	{"Bau Partner GmbH", "", "DE", "Invoice - steel works Frankfurt", zl(20_000), zl(200_000), 2, 0},
	{"Stavby Morava s.r.o.", "", "CZ", "Invoice - bridge works Ostrava", zl(15_000), zl(150_000), 1, 0},
}

var budowaForeignSuppliers = []partner{
	{"Liebherr-Mietpartner GmbH", "", "DE", "Crane rental", zl(4_000), zl(60_000), 3, 0},
	{"PERI GmbH", "", "DE", "Formwork systems", zl(3_000), zl(90_000), 2, 0},
	{"Doka GmbH", "", "AT", "Formwork rental", zl(2_500), zl(50_000), 2, 0},
	{"Royal BAM Group nv", "", "NL", "Engineering services", zl(5_000), zl(80_000), 1, 0},
}

// Kwiaciarnia Róża's clients and suppliers.
var rozaClients = []partner{
	{"Hotel Pod Różą Sp. z o.o.", "676234518", "1240103", "Dekoracje kwiatowe recepcji", zl(600), zl(4_500), 4, 800},
	{"Agencja Eventowa Bankiet Sp. z o.o.", "525247831", "1140200", "Dekoracje sal - wesele", zl(1_500), zl(14_000), 3, 800},
	{"Restauracja Stara Kamienica Sp. z o.o.", "521322745", "1020102", "Kompozycje na stoły", zl(400), zl(2_500), 3, 800},
	{"Kancelaria Notarialna Wiśniewska i Wspólnicy", "951234561", "1050000", "Kwiaty do biura - abonament", zl(300), zl(1_200), 2, 800},
}

var rozaSuppliers = []partner{
	{"Hurtownia Kwiatów Flora Sp. z o.o.", "534226781", "1020102", "Kwiaty cięte - dostawa", zl(1_200), zl(9_000), 8, 800},
	{"Plantpol Hurtownia Roślin Sp. z o.o.", "774312458", "1240103", "Rośliny doniczkowe", zl(600), zl(4_000), 3, 800},
	{"Opakowania Pak-Pol s.c.", "951187632", "1090101", "Folie, wstążki, kosze", zl(300), zl(2_500), 2, 0},
}

// People: first names and surnames (masculine and feminine forms), for
// employees and landlords outside the bank.
var (
	menFirst   = []string{"Adam", "Andrzej", "Bartosz", "Dariusz", "Grzegorz", "Jakub", "Kamil", "Krzysztof", "Łukasz", "Marcin", "Marek", "Mateusz", "Michał", "Paweł", "Rafał", "Robert", "Sebastian", "Stanisław", "Tomasz", "Wojciech", "Zbigniew"}
	womenFirst = []string{"Agnieszka", "Aleksandra", "Barbara", "Beata", "Dorota", "Ewa", "Joanna", "Julia", "Karolina", "Magdalena", "Małgorzata", "Marta", "Monika", "Natalia", "Paulina", "Weronika", "Zofia"}
	surnames   = [][2]string{
		{"Nowak", "Nowak"}, {"Kowalski", "Kowalska"}, {"Wiśniewski", "Wiśniewska"}, {"Wójcik", "Wójcik"},
		{"Kowalczyk", "Kowalczyk"}, {"Kamiński", "Kamińska"}, {"Lewandowski", "Lewandowska"}, {"Zieliński", "Zielińska"},
		{"Szymański", "Szymańska"}, {"Woźniak", "Woźniak"}, {"Dąbrowski", "Dąbrowska"}, {"Kozłowski", "Kozłowska"},
		{"Jankowski", "Jankowska"}, {"Mazur", "Mazur"}, {"Kwiatkowski", "Kwiatkowska"}, {"Krawczyk", "Krawczyk"},
		{"Piotrowski", "Piotrowska"}, {"Grabowski", "Grabowska"}, {"Nowakowski", "Nowakowska"}, {"Pawłowski", "Pawłowska"},
		{"Michalski", "Michalska"}, {"Król", "Król"}, {"Wieczorek", "Wieczorek"}, {"Jabłoński", "Jabłońska"},
	}
)

// otherBanks are the first seven digits of sort codes of real banks' units
// (their check digit is computed): PKO BP, ING, Santander, mBank, Pekao,
// Millennium, Alior, BNP Paribas, Credit Agricole, Nest Bank, BGK, Citi
// Handlowy.
var otherBanks = []string{"1020102", "1050000", "1090101", "1140200", "1240103", "1160220", "2490000", "1600146", "1940107", "1870100", "1130101", "1030150"}

// Polish cities as printed on card slips.
var cities = []string{"WARSZAWA", "KRAKÓW", "WROCŁAW", "GDAŃSK", "POZNAŃ", "ŁÓDŹ", "KATOWICE", "LUBLIN", "SZCZECIN", "BYDGOSZCZ", "RZESZÓW", "OLSZTYN"}
