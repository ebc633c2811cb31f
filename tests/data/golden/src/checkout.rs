//! A small checkout module the golden report's frames point at.

pub fn checkout(order_id: &str, card_number: &str) -> Result<(), PaymentError> {
    let total = price(order_id)?;
    charge(card_number, total)
}

fn price(order_id: &str) -> Result<u64, PaymentError> {
    Ok(order_id.len() as u64 * 100)
}

fn charge(card_number: &str, total: u64) -> Result<(), PaymentError> {
    let gateway = Gateway::connect("https://payments.example/v1")?;
    // The gateway refuses the card.
    gateway.charge(card_number, total)
}

struct Gateway;

impl Gateway {
    fn connect(_url: &str) -> Result<Gateway, PaymentError> {
        Ok(Gateway)
    }

    fn charge(&self, _card: &str, _total: u64) -> Result<(), PaymentError> {
        Err(PaymentError("payment declined".into()))
    }
}

#[derive(Debug)]
pub struct PaymentError(String);
