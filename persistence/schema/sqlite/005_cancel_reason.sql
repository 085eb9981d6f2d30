-- orderd schema, version 5: why an order was cancelled.
--
-- The payment saga cancels a PROCESSING order whose payment failed ('payment_failed'); a
-- customer's cancel stores 'customer_request'. Empty for orders that are not cancelled and for
-- orders cancelled before this version.
ALTER TABLE orders ADD COLUMN cancel_reason TEXT NOT NULL DEFAULT '';
