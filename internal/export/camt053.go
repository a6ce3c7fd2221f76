package export

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/psd2bank/psd2bank/internal/money"
	"github.com/psd2bank/psd2bank/internal/polish"
)

// Camt053Namespace is the XML namespace of ISO 20022 camt.053.001.02.
const Camt053Namespace = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"

// Camt053Options controls WriteCamt053.
type Camt053Options struct {
	// MessageID is GrpHdr/MsgId, at most 35 characters; required.
	MessageID string
	// StatementID is Stmt/Id; MessageID when empty.
	StatementID string
	// SequenceNumber is Stmt/ElctrncSeqNb, left out when zero.
	SequenceNumber int
}

// ISO 20022 text limits.
const (
	max35  = 35
	max70  = 70
	max140 = 140
)

// WriteCamt053 writes the statement as an ISO 20022 camt.053.001.02 bank to
// customer statement: the group header, one Stmt with the account (IBAN,
// currency, owner, bank), the opening (OPBD) and closing (CLBD) booked
// balances, a transactions summary, and one booked (BOOK) Ntry per item
// with its booking and value dates, the bank's type as a proprietary bank
// transaction code, and in NtryDtls/TxDtls the references, the counterparty
// (Dbtr and DbtrAcct of a credit, Cdtr and CdtrAcct of a debit) and the
// title in RmtInf/Ustrd (140 characters each, as many as it takes).
// Amounts have a decimal dot; the sign is in CdtDbtInd.
func WriteCamt053(w io.Writer, s Statement, opt Camt053Options) error {
	if err := s.Check(); err != nil {
		return err
	}
	msgID := oneLine(opt.MessageID)
	if msgID == "" || len([]rune(msgID)) > max35 {
		return fmt.Errorf("export: camt.053 message ID %q must have 1 to 35 characters", opt.MessageID)
	}
	stmtID := oneLine(opt.StatementID)
	if stmtID == "" {
		stmtID = msgID
	}
	if len([]rune(stmtID)) > max35 {
		return fmt.Errorf("export: camt.053 statement ID %q has more than 35 characters", opt.StatementID)
	}
	if s.CreatedAt.IsZero() {
		return fmt.Errorf("export: camt.053 needs the time the statement was made (CreatedAt)")
	}
	iban, _ := s.Account.iban()
	cur := s.Account.Currency
	created := s.CreatedAt.In(polish.Warsaw).Format(time.RFC3339)

	x := newXMLWriter()
	x.open("Document", "xmlns", Camt053Namespace)
	x.open("BkToCstmrStmt")
	x.open("GrpHdr")
	x.leaf("MsgId", msgID)
	x.leaf("CreDtTm", created)
	x.close("GrpHdr")

	x.open("Stmt")
	x.leaf("Id", stmtID)
	if opt.SequenceNumber > 0 {
		x.leaf("ElctrncSeqNb", strconv.Itoa(opt.SequenceNumber))
	}
	x.leaf("CreDtTm", created)
	x.open("FrToDt")
	from := dateOf(s.From)
	to := dateOf(s.To)
	x.leaf("FrDtTm", time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, polish.Warsaw).Format(time.RFC3339))
	x.leaf("ToDtTm", time.Date(to.Year(), to.Month(), to.Day(), 23, 59, 59, 0, polish.Warsaw).Format(time.RFC3339))
	x.close("FrToDt")

	x.open("Acct")
	x.open("Id")
	x.leaf("IBAN", iban)
	x.close("Id")
	x.leaf("Ccy", cur)
	if name := truncate(oneLine(s.Account.OwnerName), max140); name != "" {
		x.open("Ownr")
		x.leaf("Nm", name)
		nip := oneLine(s.Account.OwnerNIP)
		if n, err := polish.NormalizeNIP(nip); err == nil {
			nip = n
		}
		if nip != "" {
			x.open("Id")
			x.open("OrgId")
			x.open("Othr")
			x.leaf("Id", truncate(nip, max35))
			x.open("SchmeNm")
			x.leaf("Cd", "TXID")
			x.close("SchmeNm")
			x.close("Othr")
			x.close("OrgId")
			x.close("Id")
		}
		x.close("Ownr")
	}
	if bic, bank := oneLine(s.Account.BIC), truncate(oneLine(s.Account.BankName), max140); bic != "" || bank != "" {
		x.open("Svcr")
		x.open("FinInstnId")
		x.optLeaf("BIC", bic)
		x.optLeaf("Nm", bank)
		x.close("FinInstnId")
		x.close("Svcr")
	}
	x.close("Acct")

	camtBalance(x, "OPBD", s.OpeningBalance, cur, s.From)
	camtBalance(x, "CLBD", s.ClosingBalance, cur, s.To)

	var credits, debits money.Amount
	var nCredits, nDebits int
	for _, it := range s.Items {
		if it.IsDebit() {
			debits += -it.Amount
			nDebits++
		} else {
			credits += it.Amount
			nCredits++
		}
	}
	x.open("TxsSummry")
	x.open("TtlNtries")
	x.leaf("NbOfNtries", strconv.Itoa(len(s.Items)))
	x.leaf("Sum", (credits + debits).String())
	net := credits - debits
	x.leaf("TtlNetNtryAmt", abs(net).String())
	x.leaf("CdtDbtInd", cdtDbt(net))
	x.close("TtlNtries")
	x.open("TtlCdtNtries")
	x.leaf("NbOfNtries", strconv.Itoa(nCredits))
	x.leaf("Sum", credits.String())
	x.close("TtlCdtNtries")
	x.open("TtlDbtNtries")
	x.leaf("NbOfNtries", strconv.Itoa(nDebits))
	x.leaf("Sum", debits.String())
	x.close("TtlDbtNtries")
	x.close("TxsSummry")

	for _, it := range s.Items {
		camtEntry(x, it, cur)
	}
	x.close("Stmt")
	x.close("BkToCstmrStmt")
	x.close("Document")
	_, err := w.Write(x.buf.Bytes())
	return err
}

func cdtDbt(a money.Amount) string {
	if a < 0 {
		return "DBIT"
	}
	return "CRDT"
}

func camtBalance(x *xmlWriter, code string, a money.Amount, cur string, day time.Time) {
	x.open("Bal")
	x.open("Tp")
	x.open("CdOrPrtry")
	x.leaf("Cd", code)
	x.close("CdOrPrtry")
	x.close("Tp")
	x.leaf("Amt", abs(a).String(), "Ccy", cur)
	x.leaf("CdtDbtInd", cdtDbt(a))
	x.open("Dt")
	x.leaf("Dt", isoDate(day))
	x.close("Dt")
	x.close("Bal")
}

func camtEntry(x *xmlWriter, it Item, cur string) {
	id := truncate(oneLine(it.ID), max35)
	x.open("Ntry")
	x.optLeaf("NtryRef", id)
	x.leaf("Amt", abs(it.Amount).String(), "Ccy", cur)
	x.leaf("CdtDbtInd", cdtDbt(it.Amount))
	x.leaf("Sts", "BOOK")
	x.open("BookgDt")
	x.leaf("Dt", isoDate(it.BookingDate))
	x.close("BookgDt")
	x.open("ValDt")
	x.leaf("Dt", isoDate(it.valueDate()))
	x.close("ValDt")
	x.optLeaf("AcctSvcrRef", id)
	// BkTxCd is required in camt.053.001.02; the bank's own code is
	// proprietary.
	typ := truncate(oneLine(it.Type), max35)
	if typ == "" {
		typ = "NOTPROVIDED"
	}
	x.open("BkTxCd")
	x.open("Prtry")
	x.leaf("Cd", typ)
	x.close("Prtry")
	x.close("BkTxCd")

	x.open("NtryDtls")
	x.open("TxDtls")
	ref := truncate(oneLine(it.Reference), max35)
	if id != "" || ref != "" {
		x.open("Refs")
		x.optLeaf("AcctSvcrRef", id)
		x.optLeaf("EndToEndId", ref)
		x.close("Refs")
	}
	name := truncate(oneLine(it.CounterpartyName), max140)
	address := oneLine(it.CounterpartyAddress)
	iban, raw, isIBAN := counterpartyIBAN(it.CounterpartyAccount)
	if name != "" || address != "" || raw != "" {
		party, account := "Dbtr", "DbtrAcct"
		if it.IsDebit() {
			party, account = "Cdtr", "CdtrAcct"
		}
		x.open("RltdPties")
		if name != "" || address != "" {
			x.open(party)
			x.optLeaf("Nm", name)
			if address != "" {
				x.open("PstlAdr")
				for _, line := range chunks(address, max70, 7) {
					x.leaf("AdrLine", line)
				}
				x.close("PstlAdr")
			}
			x.close(party)
		}
		if raw != "" {
			x.open(account)
			x.open("Id")
			if isIBAN {
				x.leaf("IBAN", iban)
			} else {
				x.open("Othr")
				x.leaf("Id", truncate(raw, 34))
				x.close("Othr")
			}
			x.close("Id")
			x.close(account)
		}
		x.close("RltdPties")
	}
	if title := oneLine(it.Title); title != "" {
		x.open("RmtInf")
		for _, line := range chunks(title, max140, 1<<30) {
			x.leaf("Ustrd", line)
		}
		x.close("RmtInf")
	}
	x.close("TxDtls")
	x.close("NtryDtls")
	x.close("Ntry")
}
